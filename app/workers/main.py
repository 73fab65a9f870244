"""`python -m app.workers.main --processes N [--threads T]`: N Dramatiq worker processes
running our actors, and the periodic scheduler in this process (it sends ticks only while
it holds the leader lock, so every worker host may run one; `--processes 0` runs the
scheduler alone). `--probe-port` serves /live and /ready (app/workers/probes.py).

SIGTERM/SIGINT stop the scheduler and hand the pool one SIGTERM (Dramatiq finishes the
messages in hand; a second signal would kill them mid-message). When a worker process
dies, Dramatiq stops its siblings and exits; the pool is then started again — messages
the dead worker held go back to their queue (Redis: after its heartbeat times out)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import structlog
import uvloop

from app.adapters.db.leader_lock import AdvisoryLeaderLock, Listener
from app.adapters.queue.broker import connect_broker
from app.adapters.queue.publisher import DramatiqPublisher
from app.entrypoints.child_processes import die_with_parent
from app.workers.probes import WorkerHealth, serve_probes
from app.workers.relay_wakeup import OUTBOX_CHANNEL, LocalRelay, RelayOnCommit
from app.workers.scheduler import PeriodicScheduler, periodic_jobs
from config.logging import configure_logging
from config.settings import Settings, get_settings

RESTART_DELAY_S = 1.0
CRASH_LOOP_S = 5.0  # a pool dying sooner than this after its start is crash-looping
SHUTDOWN_GRACE_S = 30.0
logger = structlog.get_logger("fusionxpay.workers")


def pool_command(processes: int, threads: int) -> list[str]:
    return [sys.executable, "-m", "dramatiq", "app.workers.entry:broker", "--processes", str(processes),
            "--threads", str(threads)]


def pool_env(settings: Settings, heartbeat_dir: Path | None = None) -> dict[str, str]:
    # Dramatiq reads the idle poll interval (its "worker timeout") from the environment only.
    env = {**os.environ, "dramatiq_worker_timeout": str(settings.workers.effective_idle_poll_ms)}
    if heartbeat_dir is not None:
        env["FXP_WORKERS__HEARTBEAT_DIR"] = str(heartbeat_dir)
    return env


def scheduler_leader(settings: Settings, listeners: dict[str, Listener] | None = None,
                     ) -> AdvisoryLeaderLock | None:
    """The lock that makes one scheduler of the deployment (its namespace) the leader."""
    workers = settings.workers
    if not workers.leader_election:
        return None
    return AdvisoryLeaderLock(workers.leader_database_url or settings.database.url,
                              f"fusionxpay-scheduler:{workers.namespace}", listeners=listeners)


async def _stop_pool(pool: asyncio.subprocess.Process) -> None:
    if pool.returncode is not None:
        return
    pool.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(pool.wait(), SHUTDOWN_GRACE_S)
    except TimeoutError:
        pool.kill()
        await pool.wait()


async def _run_pool(settings: Settings, processes: int, threads: int, stop: asyncio.Event,
                    health: WorkerHealth) -> None:
    loop = asyncio.get_running_loop()
    command, env, delay_s = pool_command(processes, threads), pool_env(settings, health.folder), RESTART_DELAY_S
    while not stop.is_set():
        # Own session: a terminal's Ctrl-C reaches only us, and we send the pool one SIGTERM.
        pool = await asyncio.create_subprocess_exec(*command, env=env, start_new_session=True,
                                                    preexec_fn=die_with_parent)
        started, health.pool_started = loop.time(), time.monotonic()
        logger.info("worker_pool_started", pid=pool.pid, processes=processes, threads=threads)
        stopping = asyncio.create_task(stop.wait())
        exited = asyncio.create_task(pool.wait())
        await asyncio.wait({stopping, exited}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            exited.cancel()
            await _stop_pool(pool)
            break
        health.pool_started = None
        stopping.cancel()
        # A pool that keeps dying at once (bad configuration) is restarted ever less often.
        delay_s = RESTART_DELAY_S if loop.time() - started > CRASH_LOOP_S else min(delay_s * 2, 30.0)
        logger.error("worker_pool_exited", code=pool.returncode, restart_in_s=delay_s)
        try:
            await asyncio.wait_for(stop.wait(), delay_s)
        except TimeoutError:
            pass
    health.pool_started = None


async def run(settings: Settings, processes: int, threads: int, scheduler: bool, probe_port: int = 0) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    ticks, leader, relaying, local_relay = None, None, None, None
    folder = Path(tempfile.mkdtemp(prefix="fxp-heartbeats-"))
    health = WorkerHealth(folder, processes, settings.workers.heartbeat_stale_s)
    if scheduler:
        publisher = DramatiqPublisher(connect_broker(settings))  # sends only: no actors
        listeners: dict[str, Listener] = {}
        if settings.workers.relay_on_commit and settings.workers.leader_election and processes > 0:
            # The leader relays events the moment they commit (LISTEN on its lock's
            # connection), while its own pool consumes: before that (booting, restarting
            # after a crash) the events wait in PostgreSQL, not in a broker that may lose
            # them, and the periodic tick relays them from a worker once one is up.
            local_relay = LocalRelay(settings, publisher.broker)
            on_commit = RelayOnCommit(local_relay, ready=health.consuming,
                                      min_interval_s=settings.workers.relay_on_commit_min_interval_ms / 1000)
            listeners[OUTBOX_CHANNEL] = on_commit.notified
            relaying = asyncio.create_task(on_commit.run(stop))
        leader = health.leader = scheduler_leader(settings, listeners)
        ticks = asyncio.create_task(PeriodicScheduler(publisher, periodic_jobs(settings.workers, processes > 0),
                                                      leader, settings.workers.standby_retry_s).run(stop))
    probes = await serve_probes(health, settings.workers.probe_host, probe_port) if probe_port else None
    try:
        if processes > 0:
            await _run_pool(settings, processes, threads, stop, health)
        else:
            await stop.wait()
        if ticks is not None:
            await ticks
        if relaying is not None:
            await relaying
    finally:
        if local_relay is not None:
            await local_relay.aclose()
        if leader is not None:
            await leader.release()  # a standby takes over at its next try, not after a timeout
        if probes is not None:
            probes.close()
        shutil.rmtree(folder, ignore_errors=True)
    logger.info("workers_stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.workers.main", description="FusionXPay workers")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per worker process (default FXP_WORKERS__THREADS)")
    parser.add_argument("--no-scheduler", action="store_true",
                        help="run no scheduler here (by default each runs one; the lock holder sends ticks)")
    parser.add_argument("--probe-port", type=int, default=None,
                        help="serve GET /live and /ready on this port (default FXP_WORKERS__PROBE_PORT; 0: off)")
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    probe_port = settings.workers.probe_port if args.probe_port is None else args.probe_port
    threads = settings.workers.threads if args.threads is None else args.threads
    # uvloop: the relay on commit runs here, a round (asyncpg, the Redis batch) per few commits
    # under load, and costs less CPU on it, as the worker processes' actors do (middleware.py).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(run(settings, args.processes, threads, not args.no_scheduler, probe_port))


if __name__ == "__main__":
    sys.exit(main())

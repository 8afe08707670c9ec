"""gunicorn settings for ``bench/gate.py run --profile``: each worker profiles its CPU time with cProfile from its
``WARM``-th request until it exits, and writes ``$GATE_PROFILE_DIR/worker-<pid>.prof``."""

import cProfile
import os
import time

#: Requests a worker serves before it starts profiling: the first ones configure the mappers, compile the SQL and
#: load the translations, once per process.
WARM = int(os.environ.get("GATE_PROFILE_WARM", "300"))


def post_worker_init(worker):
    # CPU time, not wall time: on a machine shared with other work, waiting for a core is not the code's cost.
    worker.profiler = cProfile.Profile(time.process_time)
    worker.served = 0


def pre_request(worker, req):
    worker.served += 1
    if worker.served == WARM:
        worker.profiler.enable()


def worker_exit(server, worker):
    profiler = getattr(worker, "profiler", None)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(os.path.join(os.environ["GATE_PROFILE_DIR"], f"worker-{os.getpid()}.prof"))

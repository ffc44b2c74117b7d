"""ex-process-pool-manager's hints that the workloads (checks.py, for what only the run can see: a pool
that is not running, a pickling error) and the judgements (judge.py) both give. Standard library only."""

HINT_RUNNING_POOL = ("__enter__ must return the pool RUNNING: create it with multiprocessing.Pool(...) "
                     "and return it; `with Pool() as pool: return pool` inside __enter__ terminates it "
                     "as __enter__ returns, and close() stops it from taking tasks")
HINT_PICKLE = ("under the spawn start method a worker is a fresh interpreter: the pool's initializer and "
               "every function a worker runs are pickled by their importable name, so they must be "
               "top-level functions of a module (no lambda, no nested def, no closure wrapping the "
               "user's initializer); under fork the initializer is inherited, never pickled")

import sys

if sys.argv[1:] == ["worker"]:
    # The runtime pod's command: the worker alone, without the CLI's imports (see worker/entry.py).
    from wta_runtime.worker.entry import run_worker_process as main
else:
    from wta_runtime.cli import main

main()

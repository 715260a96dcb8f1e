from wta_runtime.cli import main

main()

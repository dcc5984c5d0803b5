"""`python -m bench [--quick | --soak --minutes N]`: see bench/README.md."""

from bench.run import main

main()

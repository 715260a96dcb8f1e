"""`python -m wta_operator`: run the operator."""

from wta_operator.main import main

main()

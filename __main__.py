"""Entry point of the Pulumi program: everything happens in `components.program.main`."""

from components.program import main

main()

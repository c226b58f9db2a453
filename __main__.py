"""Entry point of the Pulumi program: everything happens in `components.program.run`."""

from components.program import run

run()

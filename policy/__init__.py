"""The ece-eck-remote policy pack: guardrails checked by the Pulumi engine on every preview and update.

`rules.py` holds the rules as pure functions of one resource's type and inputs; `__main__.py` serves them as a
pulumi-policy pack. Run it with `pulumi preview --policy-pack policy` (a Pulumi install whose Python language host
is of the CLI's release) or `pulumi preview --policy-pack policy/analyzer` (any install, this repository's toolchain
included).
"""

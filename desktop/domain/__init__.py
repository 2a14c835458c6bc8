"""Pure-Python domain: value objects, validators, rules and workflow engines. No I/O, no Qt."""

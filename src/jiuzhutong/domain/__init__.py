"""Pure domain rules of 救助通: ID numbers, divisions, households, standards, income.

Imports only the standard library, ``stdnum`` and ``jiuzhutong.contract`` so the rules can
be tested and reused without a database, a web framework or a terminal. Submodules are not
re-exported here on purpose: importing one rule must not load all the others.
"""

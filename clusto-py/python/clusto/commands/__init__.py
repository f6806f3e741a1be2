"""``clusto.commands``: where the original kept its command modules, each a
``script_helper.Script`` subclass named after its module (``list_pool`` → ``ListPool``).

This package ships none: the commands of the original (``info``, ``attr``, ``pool``…)
are subcommands of the ``clusto`` command-line tool. Modules a site adds here (or to
this package's ``__path__``) are found by ``script_helper.demodule`` and
``script_helper.main``, as they were.
"""

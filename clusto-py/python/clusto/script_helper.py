"""``clusto.script_helper``: the base of clusto command-line scripts, as in the original.

A site command is a ``Script`` subclass with ``_add_arguments(parser)`` and
``run(args)``, started by ``init_arguments``::

    class Hello(script_helper.Script):
        '''Says hello to a server.'''

        def _add_arguments(self, parser):
            parser.add_argument('name')

        def run(self, args):
            print(clusto.get_by_name(args.name).name)
            return 0

    def main():
        obj, args = script_helper.init_arguments(Hello)
        return obj.run(args)

Which database a script opens agrees with the ``clusto`` command-line tool, so a
script and ``clusto`` run side by side see the same data:

* the config file is ``--config``/``-c`` if given, else ``$CLUSTOCONFIG``, else
  ``/etc/clusto/clusto.conf`` when it exists (the original preferred
  ``$CLUSTOCONFIG`` even over ``--config``; here an explicit option wins, as it does
  for ``clusto``);
* the database is ``--dsn``, else ``$CLUSTODSN``, else ``dsn`` in the config's
  ``[clusto]`` section (a relative path there is relative to the config file), else
  the default location ``$XDG_DATA_HOME/clusto/db`` (``~/.local/share/clusto/db``)
  where the original stopped with "No database given";
* ``wait`` and ``durability`` in ``[clusto]`` apply as ``clusto.connect`` reads them.
"""

import argparse
import configparser
import glob
import importlib
import json
import logging
import os
import pkgutil
import sys
import textwrap
import traceback

import clusto

__all__ = [
    "CmdLineError", "Script", "DEFAULT_CONFIG", "levels", "find_config", "default_dsn", "get_conf",
    "load_plugins", "load_config", "demodule", "setup_base_parser", "get_logger", "init_arguments", "main",
]

#: The system-wide config file, used when no other is named and it exists.
DEFAULT_CONFIG = "/etc/clusto/clusto.conf"

#: Log level names accepted by ``--loglevel`` and ``get_logger``.
levels = {
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "ERROR": logging.ERROR,
    "FATAL": logging.FATAL,
    "WARN": logging.WARN,
    "WARNING": logging.WARNING,
}


class CmdLineError(Exception):
    """A command line or configuration that cannot be used (a missing config file, an
    unknown log level…)."""


class Script:
    """Base class of clusto scripts: a logger, the config, and the argparse plumbing.
    Subclasses implement ``run(args)`` and optionally ``_add_arguments(parser)``; the
    class docstring is the command's help."""

    logger = None
    config = None

    def __init__(self):
        """Nothing to set up; subclasses may call it."""

    def _get_description(self):
        """The command's help: the class docstring, else a generic line."""
        if self.__class__.__doc__:
            return textwrap.dedent(self.__class__.__doc__)
        return "%s command help" % self.__class__.__name__.capitalize()

    def _setup_subparser(self, subparsers):
        """Adds this command's subparser, named after its module
        (``list_pool`` → ``list-pool``)."""
        command_name = self.__module__.split(".")[-1].lower().replace("_", "-")
        return subparsers.add_parser(command_name, help=self._get_description())

    def add_subparser(self, subparsers):
        """Adds this command to a parser's subparsers, with its own arguments."""
        parser = self._setup_subparser(subparsers)
        if callable(getattr(self, "_add_arguments", None)):
            self._add_arguments(parser)
        return parser

    def set_logger(self, logger):
        """Sets the logger the ``log`` helpers write to."""
        self.logger = logger

    def log(self, msg, level=logging.INFO):
        """Logs ``msg`` at ``level`` (to a default logger if none was set)."""
        if self.logger is None:
            self.logger = get_logger(self.__class__.__name__.lower())
        self.logger.log(level=level, msg=msg)

    def error(self, msg):
        """Logs at ERROR."""
        self.log(msg, level=logging.ERROR)

    def warn(self, msg):
        """Logs at WARN."""
        self.log(msg, level=logging.WARN)

    warning = warn

    def fatal(self, msg):
        """Logs at FATAL."""
        self.log(msg, level=logging.FATAL)

    def debug(self, msg):
        """Logs at DEBUG."""
        self.log(msg, level=logging.DEBUG)

    def info(self, msg):
        """Logs at INFO."""
        self.log(msg)

    def run(self, *args, **kwargs):
        """The command itself: subclasses implement it and return the exit status."""
        raise NotImplementedError("%s must implement run(args)" % self.__class__.__name__)

    def get_conf(self, *args, **kwargs):
        """``get_conf(self.config, path, default, datatype)``."""
        return get_conf(self.config, *args, **kwargs)

    def init_script(self, args, logger=None):
        """Finds and reads the config (see the module's documentation), connects
        clusto to its database and returns the config. Versions written afterwards are
        recorded for the login user, as ``clusto`` records them."""
        if logger:
            self.set_logger(logger)
        self.config = load_config(find_config(getattr(args, "config", None)), getattr(args, "dsn", None),
                                  self.logger)
        self.debug("Connecting to %s" % self.config.get("clusto", "dsn"))
        clusto.connect(self.config)
        if clusto.SESSION.clusto_user is None:
            clusto.SESSION.clusto_user = os.environ.get("USER") or os.environ.get("LOGNAME") or None
        return self.config


def find_config(filename=None):
    """The config file to read: ``filename`` if given, else ``$CLUSTOCONFIG``, else
    ``/etc/clusto/clusto.conf`` if it exists, else None (the same order as ``clusto``)."""
    if filename:
        return filename
    if os.environ.get("CLUSTOCONFIG"):
        return os.environ["CLUSTOCONFIG"]
    if os.path.exists(DEFAULT_CONFIG):
        return DEFAULT_CONFIG
    return None


def default_dsn():
    """The default database, as ``clusto`` has it: ``$XDG_DATA_HOME/clusto/db``, else
    ``~/.local/share/clusto/db``."""
    data = os.environ.get("XDG_DATA_HOME")
    if not data:
        home = os.environ.get("HOME")
        data = os.path.join(home, ".local", "share") if home else "."
    return os.path.join(data, "clusto", "db")


def get_conf(config, path, default=None, datatype=None):
    """The value of ``section.option`` (``path``) in ``config``, or ``default``.
    ``datatype``: bool, int, float, list (comma separated), dict (``k:v`` comma
    separated), ``'json'``, or None for the text."""
    try:
        section, option = path.split(".")
    except ValueError:
        raise CmdLineError("a config path is section.option, not %r" % (path,)) from None
    if not config.has_option(section, option):
        return default
    if datatype is bool:
        return config.getboolean(section, option)
    if datatype is int:
        return config.getint(section, option)
    if datatype is float:
        return config.getfloat(section, option)
    text = config.get(section, option)
    if datatype is list:
        return [item.strip() for item in text.split(",")]
    if datatype is dict:
        result = {}
        for item in text.split(","):
            key, sep, value = item.partition(":")
            if not sep:
                raise CmdLineError("%s: %r is not key:value" % (path, item))
            result[key.strip()] = value.strip()
        return result
    if datatype == "json":
        return json.loads(text)
    return text


def load_plugins(config):
    """Imports the modules named in ``[clusto] plugins`` and ``$CLUSTOPLUGINS`` (comma
    separated) and returns ``{name: module}``."""
    names = []
    if config.has_option("clusto", "plugins"):
        names += config.get("clusto", "plugins").split(",")
    names += os.environ.get("CLUSTOPLUGINS", "").split(",")
    plugins = {}
    for name in (n.strip() for n in names):
        if name and name not in plugins:
            plugins[name] = importlib.import_module(name)
    return plugins


def load_config(filename=None, dsn=None, logger=None):
    """Reads the config file ``filename`` (CmdLineError if it does not exist; None for
    none) with the files its ``[clusto] include`` globs name, sets ``[clusto] dsn`` from
    ``dsn``, ``$CLUSTODSN``, the file (relative to the file's directory) or the default
    location, loads the plugins and returns the ConfigParser."""
    if logger is None:
        logger = get_logger()
    config = configparser.ConfigParser(interpolation=None)
    if filename is not None:
        if not os.path.exists(os.path.realpath(filename)):
            msg = "Config file %s doesn't exist." % filename
            logger.error(msg)
            raise CmdLineError(msg)
        logger.debug("Reading %s" % filename)
        try:
            config.read([filename])
        except configparser.Error as e:
            raise CmdLineError("Config file %s cannot be read: %s" % (filename, e)) from None
        if not config.has_section("clusto"):
            config.add_section("clusto")
        if config.has_option("clusto", "include"):
            for pattern in config.get("clusto", "include").split():
                for included in glob.glob(pattern):
                    logger.debug('Trying to add config file: "%s"' % os.path.realpath(included))
                    try:
                        config.read(os.path.realpath(included))
                    except configparser.Error as e:
                        logger.warning(str(e))
    if not config.has_section("clusto"):
        config.add_section("clusto")
    if dsn:
        config.set("clusto", "dsn", dsn)
    elif os.environ.get("CLUSTODSN"):
        config.set("clusto", "dsn", os.environ["CLUSTODSN"])
    elif config.has_option("clusto", "dsn"):
        value = config.get("clusto", "dsn")
        if "://" not in value and not os.path.isabs(value) and value != "memory:":
            config.set("clusto", "dsn", os.path.join(os.path.dirname(os.path.abspath(filename)), value))
    else:
        config.set("clusto", "dsn", default_dsn())
    logger.debug("Loaded plugins: %s" % (load_plugins(config),))
    return config


def demodule(module):
    """The command class of ``clusto.commands.<module>``: ``some_name`` →
    ``SomeName``."""
    klass = "".join(part.capitalize() for part in module.split("_"))
    return getattr(importlib.import_module("clusto.commands.%s" % module), klass)


def setup_base_parser(add_help=False):
    """The parser with the options every command has: ``--config``/``-c``,
    ``--loglevel``, ``--dsn``. A command that defines ``-c`` itself keeps it (the
    conflict resolves in the command's favour; ``--config`` still works)."""
    parser = argparse.ArgumentParser(
        prog=os.path.basename(sys.argv[0]), description="Clusto script", conflict_handler="resolve",
        add_help=add_help, formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--config", "-c", default=None,
                        help="Config file (default: $CLUSTOCONFIG, else %s if it exists)" % DEFAULT_CONFIG)
    parser.add_argument("--loglevel", default="INFO", help="Sets the logging level (defaults to INFO)")
    parser.add_argument("--dsn", help="Alternate DSN to use (default: $CLUSTODSN, else the config's)")
    return parser


def get_logger(name="", loglevel="INFO"):
    """A logger writing ``name: LEVEL message`` to stderr. CmdLineError for an unknown
    level."""
    level = levels.get(str(loglevel).upper())
    if level is None:
        raise CmdLineError("unknown log level %r (one of %s)" % (loglevel, ", ".join(sorted(levels))))
    logging.basicConfig(format="%(name)s: %(levelname)-8s %(message)s")
    log = logging.getLogger("command.%s" % name)
    log.setLevel(level)
    return log


def init_arguments(klass, formatter_class=argparse.RawTextHelpFormatter, argv=None):
    """Makes a ``klass`` command, parses ``argv`` (default: the command line) with the
    base options and its own, connects clusto, and returns ``(command, args)``."""
    obj = klass()
    parser = argparse.ArgumentParser(parents=[setup_base_parser()], description=obj._get_description(),
                                     formatter_class=formatter_class, conflict_handler="resolve")
    if callable(getattr(obj, "_add_arguments", None)):
        obj._add_arguments(parser)
    args = parser.parse_args(argv)
    log = get_logger(klass.__module__.split(".")[-1], args.loglevel)
    obj.init_script(args=args, logger=log)
    return obj, args


def _command_modules():
    """The modules of ``clusto.commands`` (and of its other ``__path__`` entries)."""
    from clusto import commands

    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))


def main(argv=None):
    """The original's ``clusto`` front end, for commands installed as modules of
    ``clusto.commands``: ``main(['name', ...])`` runs ``clusto.commands.name``'s
    command and returns its status (99 when it raises). The ``clusto`` program of
    this package is the Rust command-line tool; this front end serves sites that kept
    their commands as modules."""
    parser = setup_base_parser(add_help=True)
    subparsers = parser.add_subparsers(title="Available clusto commands", dest="subparser_name")
    subparsers.add_parser("help", help="Print clusto help")
    for module in _command_modules():
        try:
            demodule(module)().add_subparser(subparsers)
        except Exception as e:  # a broken site module must not hide the others
            logging.getLogger("command").debug("skipping clusto.commands.%s: %s" % (module, e))
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if not argv or args.subparser_name in (None, "help"):
        parser.print_help()
        return 0
    log = get_logger(args.subparser_name, args.loglevel)
    command = demodule(args.subparser_name.replace("-", "_"))()
    command.set_logger(log)
    try:
        command.init_script(args=args, logger=log)
        return command.run(args)
    except Exception as e:
        log.debug("\n".join(traceback.format_tb(sys.exc_info()[2])))
        log.error(str(e))
        return 99


if __name__ == "__main__":
    sys.exit(main())

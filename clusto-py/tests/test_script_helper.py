"""clusto.script_helper: config discovery as the ``clusto`` tool does it, the helpers of
the original, and a site command on ``script_helper.Script`` run as its own process on a
database the Rust CLI reads and writes too."""

import os
import pathlib
import subprocess
import sys

import pytest

import clusto
from clusto import script_helper
from clusto.script_helper import CmdLineError

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE_COMMAND = ROOT / "examples" / "python" / "clusto-rack-report"
CLI = pathlib.Path(os.environ.get("CLUSTO_BIN", ROOT / "target" / "debug" / "clusto"))


@pytest.fixture
def env(monkeypatch, tmp_path):
    """No clusto variables from the caller's environment; a private XDG data home."""
    for name in ("CLUSTOCONFIG", "CLUSTODSN", "CLUSTOPLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return monkeypatch


def test_find_config_order(env, tmp_path):
    assert script_helper.find_config("given.conf") == "given.conf"
    env.setenv("CLUSTOCONFIG", "from-env.conf")
    assert script_helper.find_config(None) == "from-env.conf"
    assert script_helper.find_config("given.conf") == "given.conf"  # an explicit option wins, as in clusto
    env.delenv("CLUSTOCONFIG")
    expected = script_helper.DEFAULT_CONFIG if os.path.exists(script_helper.DEFAULT_CONFIG) else None
    assert script_helper.find_config(None) == expected


def test_load_config_dsn_order(env, tmp_path):
    conf = tmp_path / "etc" / "clusto.conf"
    conf.parent.mkdir()
    conf.write_text("[clusto]\ndsn = inventory\nwait = 2\n")
    config = script_helper.load_config(str(conf))
    assert config.get("clusto", "dsn") == str(tmp_path / "etc" / "inventory")  # relative to the file
    assert script_helper.get_conf(config, "clusto.wait", datatype=float) == 2.0
    env.setenv("CLUSTODSN", "/from/env")
    assert script_helper.load_config(str(conf)).get("clusto", "dsn") == "/from/env"
    assert script_helper.load_config(str(conf), dsn="/from/option").get("clusto", "dsn") == "/from/option"
    env.delenv("CLUSTODSN")
    assert script_helper.load_config(None).get("clusto", "dsn") == str(tmp_path / "xdg" / "clusto" / "db")
    with pytest.raises(CmdLineError, match="doesn't exist"):
        script_helper.load_config(str(tmp_path / "missing.conf"))


def test_load_config_includes_and_plugins(env, tmp_path):
    (tmp_path / "extra.conf").write_text("[site]\nteams = web, db\nowners = web:alice, db:bob\n"
                                         "limits = {\"max\": 3}\non = yes\n")
    conf = tmp_path / "clusto.conf"
    conf.write_text("[clusto]\ndsn = /x\nplugins = json\ninclude = %s\n" % (tmp_path / "*.conf-none"))
    config = script_helper.load_config(str(conf))
    assert not config.has_section("site")
    conf.write_text("[clusto]\ndsn = /x\nplugins = json\ninclude = %s\n" % (tmp_path / "extra.conf"))
    config = script_helper.load_config(str(conf))
    assert script_helper.get_conf(config, "site.teams", datatype=list) == ["web", "db"]
    assert script_helper.get_conf(config, "site.owners", datatype=dict) == {"web": "alice", "db": "bob"}
    assert script_helper.get_conf(config, "site.limits", datatype="json") == {"max": 3}
    assert script_helper.get_conf(config, "site.on", datatype=bool) is True
    assert script_helper.get_conf(config, "site.none", default="d") == "d"
    assert set(script_helper.load_plugins(config)) == {"json"}
    env.setenv("CLUSTOPLUGINS", "no_such_module_for_clusto")
    with pytest.raises(ImportError):
        script_helper.load_plugins(config)


def test_base_parser_and_logger():
    parser = script_helper.setup_base_parser()
    args = parser.parse_args(["-c", "a.conf", "--dsn", "/db", "--loglevel", "DEBUG"])
    assert (args.config, args.dsn, args.loglevel) == ("a.conf", "/db", "DEBUG")
    assert parser.parse_args([]).config is None
    assert script_helper.get_logger("x", "debug").level == script_helper.levels["DEBUG"]
    with pytest.raises(CmdLineError, match="log level"):
        script_helper.get_logger("x", "LOUD")


def test_init_arguments_connects_and_keeps_a_commands_own_dash_c(env, tmp_path):
    class Tree(script_helper.Script):
        """A command with its own -c, as the original's tree command had."""

        def _add_arguments(self, parser):
            """-c is this command's."""
            parser.add_argument("-c", "--contents", action="store_true")

        def run(self, args):
            """Nothing."""
            return 0

    db = tmp_path / "db"
    try:
        command, args = script_helper.init_arguments(Tree, argv=["--dsn", str(db), "-c"])
        assert args.contents is True and args.config is None
        assert command.config.get("clusto", "dsn") == str(db)
        assert clusto.SESSION.native.path() is not None
        assert command._get_description().startswith("A command with its own -c")
        with pytest.raises(NotImplementedError):
            script_helper.Script().run()
    finally:
        clusto.disconnect()


def test_demodule_and_main_use_clusto_commands(env, tmp_path, capsys, monkeypatch):
    import clusto.commands

    package = tmp_path / "site_commands"
    package.mkdir()
    (package / "say_hello.py").write_text(
        "import clusto\n"
        "from clusto import script_helper\n"
        "class SayHello(script_helper.Script):\n"
        "    '''Says hello.'''\n"
        "    def _add_arguments(self, parser):\n"
        "        parser.add_argument('who')\n"
        "    def run(self, args):\n"
        "        print('hello', args.who, clusto.get_latest_version_number())\n"
        "        return 7\n"
    )
    monkeypatch.setattr(clusto.commands, "__path__", list(clusto.commands.__path__) + [str(package)])
    assert script_helper.demodule("say_hello").__name__ == "SayHello"
    try:
        assert script_helper.main(["--dsn", str(tmp_path / "db"), "say-hello", "you"]) == 7
        assert "hello you 0" in capsys.readouterr().out
        assert script_helper.main([]) == 0
    finally:
        clusto.disconnect()


def _run(cmd, cwd, env):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, "%s failed (%d):\n%s\n%s" % (cmd, done.returncode, done.stdout, done.stderr)
    return done.stdout


@pytest.mark.skipif(not CLI.exists(), reason="the clusto CLI is not built: cargo build -p clusto-cli")
def test_site_command_and_the_cli_share_a_database(tmp_path):
    """The example site command, a separate Python process, finds the database through
    $CLUSTOCONFIG; the Rust CLI finds the same one through --config."""
    conf = tmp_path / "clusto.conf"
    conf.write_text("[clusto]\ndsn = inventory\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTO")}
    env["PYTHONPATH"] = str(ROOT / "clusto-py" / "python")
    cli = [str(CLI), "--config", str(conf)]
    _run(cli + ["initdb"], tmp_path, env)
    _run(cli + ["create", "basicrack", "r1"], tmp_path, env)
    _run(cli + ["create", "basicserver", "db01"], tmp_path, env)
    _run(cli + ["rack", "insert", "--ru", "10", "r1", "db01"], tmp_path, env)

    site_env = dict(env, CLUSTOCONFIG=str(conf))
    out = _run([sys.executable, str(SITE_COMMAND), "r1", "--add", "web01", "-u", "3", "-u", "4"],
               tmp_path.parent, site_env)
    assert out.splitlines() == [" 10 db01 basicserver", "  4 web01 basicserver", "  3 web01 basicserver"]

    info = _run(cli + ["info", "web01"], tmp_path, env)
    assert "basicserver" in info and "r1" in info
    history = _run(cli + ["history"], tmp_path, env)
    assert "rack-report: rack web01 in r1" in history

    # A bad insert changes nothing, and says why.
    done = subprocess.run([sys.executable, str(SITE_COMMAND), "r1", "--add", "web02", "-u", "4"],
                          env=site_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3 and "web02" in done.stderr
    assert "web02" not in _run(cli + ["list-all"], tmp_path, env)


def test_missing_config_is_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTO")}
    env["PYTHONPATH"] = str(ROOT / "clusto-py" / "python")
    done = subprocess.run([sys.executable, str(SITE_COMMAND), "-c", str(tmp_path / "nope.conf"), "r1"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "nope.conf doesn't exist" in done.stderr

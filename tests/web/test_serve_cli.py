"""``losslab serve`` with a port or host it cannot use: one line and exit 2, before printing the URL."""

import socket

import pytest

pytest.importorskip("uvicorn")

from losslab.cli.main import main


def test_a_port_out_of_range_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", "70000"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "--port" in err and err.count("\n") == 1


def test_a_busy_port_is_one_line_and_exit_2(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["serve", "--port", str(busy.getsockname()[1])]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--port: cannot listen on 127.0.0.1" in err and err.count("\n") == 1


@pytest.mark.parametrize("host", ["999.1.1.1", "not a host name"])
def test_an_unusable_host_is_one_line_and_exit_2(capsys, host):
    assert main(["serve", "--host", host]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--host: cannot listen on" in err and err.count("\n") == 1

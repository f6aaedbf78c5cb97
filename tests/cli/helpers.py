"""Running the command line as a user would, and checking the images it writes."""

import subprocess
import sys


def run_cli(*args, module="losslab.cli"):
    """Run `losslab ARGS` in a fresh process (``python -m module ARGS``)."""
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(result, message):
    """Exit code 2, ``message`` on stderr, one line and no traceback."""
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def png_ok(path, min_size=(300, 200)):
    """A real, non-blank PNG of at least min_size (width, height) pixels."""
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    height, width = img.shape[:2]
    assert width >= min_size[0] and height >= min_size[1], (path, img.shape)
    assert img[..., :3].std() > 0.02, f"{path} looks blank"
    return img

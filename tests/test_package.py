import subprocess
import sys


def test_core_imports_need_only_numpy():
    code = (
        "import sys, losslab, losslab.losses, losslab.optim, losslab.models, losslab.training, losslab.lsq;"
        "heavy = [m for m in ('sklearn', 'matplotlib', 'torch', 'scipy') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve():
    import losslab

    for name in losslab.__all__:
        assert getattr(losslab, name) is not None

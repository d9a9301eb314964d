import pathlib
import sys

# The helpers next to the tests (vectors.py); `pushseal` itself is the installed package.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

"""Self-test of tools/bench/lib/torch_env.py's BLAS classification on /proc/self/maps excerpts
(no torch needed): /usr/bin/python3 tools/bench/lib/test_torch_env.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_env import blas_libraries, classify_blas_path, mapped_libraries  # noqa: E402


def maps(*paths):
    return '\n'.join(f'7f00000{i}000-7f00000{i}fff r-xp 00000000 08:01 {100 + i}    {p}' for i, p in enumerate(paths)) + \
        '\n7ffd0000-7ffd1000 rw-p 00000000 00:00 0    [stack]\n'


CASES = [
    ('/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0', 'reference'),
    ('/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3', 'openblas-pthread'),
    ('/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3', 'openblas-openmp'),
    ('/opt/intel/lib/libmkl_rt.so.2', 'mkl'),
    ('/usr/lib/x86_64-linux-gnu/blis-pthread/libblas.so.3', 'blis'),
    ('/usr/lib/python3/dist-packages/torch/lib/libtorch_cpu.so', 'unknown'),
    (None, 'unknown'),
]

failures = 0
for path, want in CASES:
    got = classify_blas_path(path)
    if got != want:
        failures += 1
        print(f'FAIL: expected {want}, got {got} for {path}')
text = maps('/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3', '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0', '/a/x.so', '/a/x.so')
assert mapped_libraries(text).count('/a/x.so') == 1, 'duplicates are listed once'
assert blas_libraries(mapped_libraries(text)) == ['/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3', '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0']
print(f'{len(CASES) - failures} of {len(CASES)} cases pass')
sys.exit(1 if failures else 0)

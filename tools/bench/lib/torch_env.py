"""What a PyTorch bench reference actually runs on, recorded in its JSON (`env`), and a refusal
to run on the netlib reference BLAS.

Debian's python3-torch is built with BLAS_INFO=generic: its matrix products go through whatever
`libblas.so.3` the alternatives point to. On a fresh machine that is the netlib reference BLAS
(package libblas3), about 30x slower than OpenBLAS on matrix products, so a ratio against it is
false. `reference_env()` runs one matrix product (which loads the BLAS), records the BLAS/LAPACK
libraries mapped into this process (/proc/self/maps) and the one whose `sgemm_` torch resolves
(dlsym + dladdr: Debian's torch maps OpenBLAS and libblas.so.3 both, and the alternative decides),
and exits with status 3 and a message naming the package to install when that is the reference BLAS.

usage (after `torch.set_num_threads(...)`):  env = reference_env(); ...; print(json.dumps({..., 'env': env}))
"""
import os
import re
import sys

INSTALL = 'apt-get install -y python3-torch python3-torchvision python3-numpy libopenblas0-pthread'
_LIB = re.compile(r'(openblas|libblas|liblapack|mkl|blis|atlas)', re.IGNORECASE)


def mapped_libraries(maps_text):
    """The distinct shared-library paths of a /proc/<pid>/maps text, in order of appearance."""
    seen = []
    for line in maps_text.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and '.so' in parts[5] and parts[5].strip() not in seen:
            seen.append(parts[5].strip())
    return seen


def classify_blas_path(path):
    """The kind of BLAS a library path is: 'openblas-pthread', 'openblas-openmp', 'openblas-serial',
    'openblas', 'mkl', 'blis', 'atlas', 'reference' (netlib, Debian's libblas3: .../blas/libblas.so.3)
    or 'unknown'."""
    if not path:
        return 'unknown'
    if 'openblas' in path:
        for variant in ('pthread', 'openmp', 'serial'):
            if f'openblas-{variant}' in path:
                return f'openblas-{variant}'
        return 'openblas'
    for kind in ('mkl', 'blis', 'atlas'):
        if kind in path.lower():
            return kind
    if re.search(r'/blas/libblas\.so', path) or os.path.basename(path).startswith('libblas.so'):
        return 'reference'
    return 'unknown'


def blas_libraries(libraries):
    """The BLAS/LAPACK libraries among mapped library paths."""
    return [p for p in libraries if _LIB.search(os.path.basename(p)) or '/openblas' in p or '/blas/' in p]


def sgemm_provider(torch):
    """The real path of the library whose `sgemm_` libtorch_cpu resolves (dlsym on its handle, then
    dladdr), or None. Debian's torch links libblas.so.3 and libopenblas.so.0 both; which one serves
    its matrix products is the first in load order, i.e. what the libblas.so.3 alternative selects."""
    import ctypes
    lib = os.path.join(os.path.dirname(torch.__file__), 'lib', 'libtorch_cpu.so')
    try:
        fn = ctypes.CDLL(lib).sgemm_
    except (OSError, AttributeError):
        return None

    class DlInfo(ctypes.Structure):
        _fields_ = [('dli_fname', ctypes.c_char_p), ('dli_fbase', ctypes.c_void_p), ('dli_sname', ctypes.c_char_p), ('dli_saddr', ctypes.c_void_p)]

    info = DlInfo()
    if not ctypes.CDLL(None).dladdr(ctypes.cast(fn, ctypes.c_void_p), ctypes.byref(info)) or not info.dli_fname:
        return None
    return os.path.realpath(info.dli_fname.decode())


def torch_blas_info(torch):
    """The BLAS_INFO field of torch's build configuration (e.g. 'generic', 'open', 'mkl')."""
    m = re.search(r'BLAS_INFO=([^,\s]+)', torch.__config__.show())
    return m.group(1) if m else None


def reference_env(allow_reference_blas=False):
    """Loads the BLAS with one matrix product and returns the dict recorded as `env` in a
    reference's JSON; exits (status 3) on the netlib reference BLAS unless allowed."""
    import torch
    a = torch.ones(64, 64)
    (a @ a).sum().item()
    with open('/proc/self/maps') as f:
        mapped = blas_libraries(mapped_libraries(f.read()))
    provider = sgemm_provider(torch)
    env = {
        'blas': classify_blas_path(provider),
        'blasLibrary': provider,
        'blasLibrariesMapped': [os.path.realpath(p) for p in mapped],
        'torchBlasInfo': torch_blas_info(torch),
        'torchThreads': torch.get_num_threads(),
        # glibc allocator thresholds the process ran with (tools/bench/lib/machine.mjs referenceEnv):
        # null = glibc's dynamic defaults.
        'malloc': {k: os.environ.get(k) for k in ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_')},
        'torch': torch.__version__,
        'python': sys.version.split()[0],
    }
    if env['blas'] == 'reference' and not allow_reference_blas:
        sys.stderr.write(
            f'bench reference: PyTorch is using the netlib reference BLAS ({provider} serves sgemm_), '
            'about 30x slower than OpenBLAS on matrix products, so a ratio against it would be false. '
            f'Install OpenBLAS and run again: {INSTALL}\n')
        sys.exit(3)
    return env


if __name__ == '__main__':
    import json
    print(json.dumps(reference_env(allow_reference_blas=True)))

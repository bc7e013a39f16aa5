#!/usr/bin/env python3
"""gensim reads what `w2v train` writes, in both formats, with the same words and values.

usage: gensim_load.py W2V_BINARY CORPUS WORKDIR
Exits 77 (a skip for ctest) when gensim is not installed.
"""
import os
import subprocess
import sys

try:
    import numpy as np
    from gensim.models import KeyedVectors
except ImportError:
    print("gensim is not installed: skipping (pip install gensim)")
    sys.exit(77)

w2v, corpus, work = sys.argv[1:4]
if not os.path.exists(corpus):
    print(f"no {corpus}: skipping")
    sys.exit(77)
os.makedirs(work, exist_ok=True)
with open(corpus, "rb") as f:
    text = f.read(300_000)
small = os.path.join(work, "small.txt")
with open(small, "wb") as f:
    f.write(text)

loaded = {}
for name, binary in (("v.txt", False), ("v.bin", True)):
    out = os.path.join(work, name)
    # The CPU trainer on one thread with a fixed seed: both runs train the same vectors (a
    # GPU's, which --device auto would take, are not bit-reproducible).
    subprocess.run([w2v, "train", "--corpus", small, "--output", out, "--epochs", "1",
                    "--dim", "24", "--device", "cpu", "--threads", "1", "--seed", "7",
                    "--quiet"], check=True)
    loaded[name] = KeyedVectors.load_word2vec_format(out, binary=binary)

text_kv, bin_kv = loaded["v.txt"], loaded["v.bin"]
assert text_kv.vector_size == 24, text_kv.vector_size
assert text_kv.index_to_key == bin_kv.index_to_key, "word order differs between formats"
assert text_kv.index_to_key[0] == "the", text_kv.index_to_key[:5]
diff = np.abs(text_kv.vectors - bin_kv.vectors).max()
scale = np.abs(bin_kv.vectors).max()
assert diff <= 1e-6 * scale + 1e-7, f"text and binary vectors differ by {diff} (scale {scale})"
print(f"gensim {__import__('gensim').__version__} loaded {len(text_kv)} words x "
      f"{text_kv.vector_size} from both formats; max |text - binary| = {diff:.2e}")

# A Latin-1 corpus: w2v writes its words' bytes as they are (as word2vec.c does), warns, and
# the load its warning advises works in both formats.
latin = os.path.join(work, "latin1.txt")
with open(latin, "wb") as f:
    f.write((("caf\xe9 na\xefve the cat " * 10 + "\n") * 50).encode("latin-1"))
for name, binary in (("latin1.txt.vec", False), ("latin1.bin", True)):
    out = os.path.join(work, name)
    run = subprocess.run([w2v, "train", "--corpus", latin, "--output", out, "--epochs", "1",
                          "--dim", "8", "--min-count", "1", "--device", "cpu", "--quiet"],
                         check=True, capture_output=True, text=True)
    assert "unicode_errors='replace'" in run.stderr, run.stderr
    kv = KeyedVectors.load_word2vec_format(out, binary=binary, unicode_errors="replace")
    assert sorted(kv.index_to_key) == ["caf\ufffd", "cat", "na\ufffdve", "the"], kv.index_to_key
print("a Latin-1 corpus's vectors load with unicode_errors='replace', as the warning says")

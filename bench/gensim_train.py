#!/usr/bin/env python3
"""Trains gensim's Word2Vec with w2v's settings, for bench/compare_fasttext.sh.

usage: gensim_train.py CORPUS OUT.txt MODEL DIM WINDOW NEGATIVE SAMPLE MIN_COUNT EPOCHS THREADS LR SEED [ns|hs]

Uses gensim's corpus_file mode (its fastest: Cython, one reader per worker) on a copy of the
corpus with lines cut every 10,000 words, the sentences w2v and word2vec.c train on: in that
mode gensim reads only the first 10,000 words of a longer line, so on text8 (one line) it
would train on almost nothing. Prints the vocabulary size and the training seconds (after
the vocabulary is built) for the table.
"""
import os
import sys
import tempfile
import time

try:
    from gensim.models import Word2Vec
except ImportError:
    sys.exit("gensim_train: gensim is not installed (pip install gensim, or apt-get install python3-gensim)")

(corpus, out, model_name, dim, window, negative, sample, min_count, epochs, threads, lr,
 seed) = sys.argv[1:13]
hs = len(sys.argv) > 13 and sys.argv[13] == "hs"
lr = float(lr)
MAX_SENTENCE = 10000
with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as lines:
    with open(corpus, "rb") as f:
        for line in f:
            words = line.split()
            for start in range(0, len(words), MAX_SENTENCE):
                lines.write(b" ".join(words[start:start + MAX_SENTENCE]) + b"\n")
corpus = lines.name
model = Word2Vec(vector_size=int(dim), window=int(window), negative=0 if hs else int(negative),
                 hs=int(hs),
                 sample=float(sample), min_count=int(min_count), sg=int(model_name == "skipgram"),
                 cbow_mean=1, workers=int(threads), alpha=lr, min_alpha=lr * 1e-4,
                 seed=int(seed), epochs=int(epochs))
model.build_vocab(corpus_file=corpus)
print(f"gensim vocabulary {len(model.wv)} words", flush=True)
start = time.monotonic()
model.train(corpus_file=corpus, total_examples=model.corpus_count,
            total_words=model.corpus_total_words, epochs=int(epochs))
seconds = time.monotonic() - start
print(f"gensim trained in {seconds:.3f} s", flush=True)
model.wv.save_word2vec_format(out, binary=False)
os.remove(corpus)

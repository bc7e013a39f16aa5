#!/usr/bin/env python3
"""Issue 16 anchor: gensim's CBOW or skip-gram with the issue's settings on the Wikipedia corpus, saved in
word2vec binary format for w2v's evaluators.

usage: nice -n 10 python3 bench/quality/gensim_anchor.py CORPUS OUT.bin SEED [cbow|skipgram
       [EPOCHS [ALPHA]]]   (default cbow 3 epochs; alpha 0.05 CBOW, 0.025 skip-gram)
With GENSIM_SUM=1 it also writes OUT.sum.bin: each word's input vector plus its output vector.
The corpus's lines are at most 1,000 words, so it is used as is (corpus_file mode reads
one sentence per line, cut at 10,000 words)."""
import logging
import os
import sys
import time

from gensim.models import KeyedVectors, Word2Vec

corpus, out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
sg = len(sys.argv) > 4 and sys.argv[4] == "skipgram"
epochs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
lr = float(sys.argv[6]) if len(sys.argv) > 6 else (0.025 if sg else 0.05)
logging.basicConfig(format="%(asctime)s %(message)s", level=logging.INFO)
model = Word2Vec(vector_size=100, window=5, negative=5, hs=0, sample=1e-4, min_count=5,
                 sg=int(sg), cbow_mean=1, workers=2, alpha=lr, min_alpha=lr * 1e-4, seed=seed,
                 epochs=epochs)
model.build_vocab(corpus_file=corpus)
print(f"gensim vocabulary {len(model.wv)} words", flush=True)
start = time.monotonic()
model.train(corpus_file=corpus, total_examples=model.corpus_count,
            total_words=model.corpus_total_words, epochs=epochs)
seconds = time.monotonic() - start
print(f"gensim trained in {seconds:.3f} s: {epochs * model.corpus_total_words / seconds:.0f} words/s",
      flush=True)
model.wv.save_word2vec_format(out, binary=True)
if os.environ.get("GENSIM_SUM"):  # also the input + output vectors, as w2v's --vectors sum
    summed = KeyedVectors(vector_size=model.wv.vector_size)
    summed.add_vectors(model.wv.index_to_key, model.wv.vectors + model.syn1neg)
    summed.save_word2vec_format(out[:-len(".bin")] + ".sum.bin", binary=True)

#!/usr/bin/env python3
"""Issue 16 anchor: gensim's CBOW with the issue's settings on the Wikipedia corpus, saved in
word2vec binary format for w2v's evaluators.

usage: nice -n 10 python3 bench/quality/gensim_anchor.py CORPUS OUT.bin SEED
The corpus's lines are at most 1,000 words, so it is used as is (corpus_file mode reads
one sentence per line, cut at 10,000 words)."""
import logging
import sys
import time

from gensim.models import Word2Vec

corpus, out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
logging.basicConfig(format="%(asctime)s %(message)s", level=logging.INFO)
lr = 0.05
model = Word2Vec(vector_size=100, window=5, negative=5, hs=0, sample=1e-4, min_count=5, sg=0,
                 cbow_mean=1, workers=2, alpha=lr, min_alpha=lr * 1e-4, seed=seed, epochs=3)
model.build_vocab(corpus_file=corpus)
print(f"gensim vocabulary {len(model.wv)} words", flush=True)
start = time.monotonic()
model.train(corpus_file=corpus, total_examples=model.corpus_count,
            total_words=model.corpus_total_words, epochs=3)
seconds = time.monotonic() - start
print(f"gensim trained in {seconds:.3f} s: {3 * model.corpus_total_words / seconds:.0f} words/s",
      flush=True)
model.wv.save_word2vec_format(out, binary=True)

#!/usr/bin/env python3
"""Trains gensim's Word2Vec with w2v's settings, for bench/compare_fasttext.sh.

usage: gensim_train.py CORPUS OUT.txt MODEL DIM WINDOW NEGATIVE SAMPLE MIN_COUNT EPOCHS THREADS LR SEED

Uses gensim's corpus_file mode (its fastest: Cython, one reader per worker). Prints the
vocabulary size and the training seconds (after the vocabulary is built) for the table.
"""
import sys
import time

try:
    from gensim.models import Word2Vec
except ImportError:
    sys.exit("gensim_train: gensim is not installed (pip install gensim, or apt-get install python3-gensim)")

(corpus, out, model_name, dim, window, negative, sample, min_count, epochs, threads, lr,
 seed) = sys.argv[1:13]
lr = float(lr)
model = Word2Vec(vector_size=int(dim), window=int(window), negative=int(negative), hs=0,
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

#!/usr/bin/env python3
"""Writes the issue-16 experiment patches (one variant each, ungated) to /tmp/quality-patches/,
as `diff -u` against /work/main's files. The experimental build used the same edits behind
W2V_Q_* environment switches."""
import os
import subprocess

MAIN = "/work/main"
OUT = "/tmp/quality-patches"
os.makedirs(OUT, exist_ok=True)


def patch(name, path, edits):
    src = open(os.path.join(MAIN, path)).read()
    new = src
    for old, rep in edits:
        assert new.count(old) == 1, (name, old)
        new = new.replace(old, rep)
    tmp = f"/tmp/qp/{name}/{path}"
    os.makedirs(os.path.dirname(tmp), exist_ok=True)
    open(tmp, "w").write(new)
    diff = subprocess.run(["diff", "-u", "--label", f"a/{path}", "--label", f"b/{path}",
                           os.path.join(MAIN, path), tmp], capture_output=True, text=True).stdout
    with open(os.path.join(OUT, f"{name}.patch"), "a") as f:
        f.write(diff)


for f in os.listdir(OUT):
    if f.endswith(".patch"):
        os.remove(os.path.join(OUT, f))

CT = "host/cpu_trainer.cc"

# 1. CBOW: divide the context gradient by the context count (exact gradient of the mean).
patch("cbow-grad-scale", CT, [(
    """    for (std::size_t j = lo; j <= hi; ++j)
      if (j != i) axpy(in_row(sentence_[j]), 1.0f, grad_.data(), dim_);
    ++loss_count_;""",
    """    // The exact gradient of the mean: each context row gets 1/count of the hidden gradient.
    for (std::size_t j = lo; j <= hi; ++j)
      if (j != i) axpy(in_row(sentence_[j]), inv, grad_.data(), dim_);
    ++loss_count_;""")])

# 2./3. Per-worker schedules. sched-gensim reproduces gensim corpus_file's saw-tooth
# (each worker's in-epoch progress counted against the whole corpus); sched-local is the
# per-worker linear decay without that bug.
def sched(name, share):
    patch(name, CT, [
        ("""        stream_(job.corpus, job.tables, range, job.config.epochs, worker_seed(job.config.seed, id)),""",
         """        stream_(job.corpus, job.tables, range, job.config.epochs, worker_seed(job.config.seed, id)),
        range_(range),"""),
        ("""  SentenceStream stream_;
  Rng& rng_;""",
         """  SentenceStream stream_;
  CorpusRange range_;
  Rng& rng_;"""),
        ("""  void run() {
    alpha_ = static_cast<float>(progress_.alpha());""",
         """  void run() {
    set_alpha();"""),
        ("""    loss_count_ = 0;
    alpha_ = static_cast<float>(progress_.alpha());
  }""",
         f"""    loss_count_ = 0;
    set_alpha();
  }}

  // {'gensim corpus_file: (epoch + own fraction / workers) / epochs, a saw-tooth' if share else 'Linear decay on this worker' + "'" + 's own progress through its slice, all epochs'}.
  void set_alpha() {{
    const WalkerState st = stream_.state();
    const double span = static_cast<double>(range_.end - range_.begin);
    const double frac = span > 0 ? static_cast<double>(st.position - range_.begin) / span : 1.0;
    const double start = c_.start_alpha(), end = start * c_.min_alpha_fraction;
    const double epoch = std::min<double>(st.epoch, c_.epochs - 1);
    const double done = (epoch + frac{' / c_.thread_count()' if share else ''}) / static_cast<double>(c_.epochs);
    alpha_ = static_cast<float>(std::max(end, start - (start - end) * done));
  }}"""),
    ])

sched("sched-gensim", True)
sched("sched-local", False)

# 4. fastText: redraw a noise word equal to the target (always `negative` negatives).
patch("noise-redraw", CT, [(
    """    for (std::size_t k = first; k <= c_.negative; ++k) targets_[k] = job_.tables.noise.sample(rng_);""",
    """    for (std::size_t k = first; k <= c_.negative; ++k) {
      do targets_[k] = job_.tables.noise.sample(rng_);
      while (targets_[k] == targets_[0]);
    }""")])

# 5. gensim: no update for a logit outside [-6, 6] (affects skip-gram too: ns_step is shared).
patch("clip-skip", CT, [(
    """    float f = dot(in, row, dim);
""",
    """    float f = dot(in, row, dim);
    if (f <= -6.0f || f >= 6.0f) continue;  // gensim: a saturated logit trains nothing
""")])

# 6. gensim/fastText initialisation U(-1/dim, 1/dim).
patch("init-wide", "host/model.cc", [(
    """  const float scale = 1.0f / static_cast<float>(dim);""",
    """  const float scale = 2.0f / static_cast<float>(dim);  // U(-1/dim, 1/dim), as gensim and fastText""")])

#include "w2v/modular.h"

#include <cstdio>

namespace w2v {

BatchLayout BatchLayout::for_config(const TrainConfig& c) {
  BatchLayout l;
  l.model = c.model;
  l.loss = c.loss;
  l.rows = c.batch_rows();
  const std::uint32_t negative = l.ns() ? c.negative : 0;  // as BatchPacker counts them
  if (l.cbow()) {
    l.inputs = 2 * c.window;
    l.outputs = 1 + negative;
  } else {
    l.inputs = 1;
    l.outputs = 2 * c.window * (1 + negative);
  }
  return l;
}

BatchView BatchView::carve(void* block, const BatchLayout& l) {
  auto* ids = static_cast<std::int32_t*>(block);
  BatchView v;
  v.input_ids = ids;
  v.output_ids = v.input_ids + l.input_ids();
  v.counts = v.output_ids + l.output_ids();
  v.labels = reinterpret_cast<float*>(v.counts + l.rows);
  v.mask = v.labels + l.output_ids();
  v.row_scale = v.mask + l.output_ids();
  return v;
}

void RepeatCap::apply(const BatchLayout& l, const BatchView& v, std::size_t rows) {
  const std::size_t n_in = l.input_ids(), n_out = l.output_ids();
  // Which slots carry a gradient: input slots of real rows (CBOW: within the row's count),
  // output slots with a mask (NS) or any target (softmax/BCE update the output table densely,
  // so their output scales are unused).
  auto valid_input = [&](std::size_t i) {
    const std::size_t row = i / l.inputs;
    return row < rows && (!l.cbow() || i % l.inputs < std::size_t(v.counts[row]));
  };
  auto valid_output = [&](std::size_t j) { return j / l.outputs < rows && v.mask[j] != 0.0f; };
  auto count = [&](std::size_t n, const std::int32_t* ids, auto valid) {
    for (std::size_t i = 0; i < n; ++i)
      if (valid(i)) ++counts_[ids[i]];
  };
  auto weigh = [&](std::size_t n, const std::int32_t* ids, float* scale, auto valid) {
    for (std::size_t i = 0; i < n; ++i) {
      if (!valid(i)) {
        scale[i] = 0.0f;
        continue;
      }
      const std::uint32_t k = counts_[ids[i]];
      scale[i] = k > cap_ ? static_cast<float>(cap_) / static_cast<float>(k) : 1.0f;
    }
  };
  auto reset = [&](std::size_t n, const std::int32_t* ids) {
    for (std::size_t i = 0; i < n; ++i) counts_[ids[i]] = 0;
  };
  if (cap_ == 0) {
    std::fill_n(v.row_scale, n_in + n_out, 1.0f);
    return;
  }
  if (!l.ns()) {  // only the input rows are scattered
    count(n_in, v.input_ids, valid_input);
    weigh(n_in, v.input_ids, v.row_scale, valid_input);
    std::fill_n(v.row_scale + n_in, n_out, 1.0f);
    reset(n_in, v.input_ids);
    return;
  }
  // Tied: one table, so input and output occurrences of a word count together.
  count(n_in, v.input_ids, valid_input);
  if (!tied_) {
    weigh(n_in, v.input_ids, v.row_scale, valid_input);
    reset(n_in, v.input_ids);
  }
  count(n_out, v.output_ids, valid_output);
  weigh(n_out, v.output_ids, v.row_scale + n_in, valid_output);
  if (tied_) {
    weigh(n_in, v.input_ids, v.row_scale, valid_input);
    reset(n_in, v.input_ids);
  }
  reset(n_out, v.output_ids);
}

PackResult pack_batch(BatchPacker& packer, RepeatCap& cap, const BatchLayout& layout, void* block) {
  const BatchView v = BatchView::carve(block, layout);
  const PackResult result =
      layout.cbow()
          ? packer.fill(
                CbowBatch{layout.rows, v.input_ids, v.counts, v.output_ids, v.labels, v.mask})
          : packer.fill(SkipGramBatch{layout.rows, v.input_ids, v.output_ids, v.labels, v.mask});
  cap.apply(layout, v, result.rows);
  return result;
}

StepBuffers StepBuffers::plan(const BatchLayout& l, const TrainConfig& c, std::size_t vocab) {
  StepBuffers b;
  const std::size_t d = c.dim, n_in = l.input_ids(), n_out = l.output_ids();
  b.table = vocab * d;
  b.tables = c.tied ? 1 : 2;
  b.state_per_table = c.optimizer == OptimizerKind::kSgd    ? 0
                      : c.optimizer == OptimizerKind::kAdam ? 2
                                                            : 1;
  b.input_rows = n_in * d;
  b.hidden = l.cbow() ? l.rows * d : 0;
  b.hidden_grad = l.cbow() ? l.rows * d : 0;
  const bool sgd = c.optimizer == OptimizerKind::kSgd;
  if (l.ns()) {
    b.output_rows = n_out * d;
    b.scores = n_out;
    b.grads = (n_in + n_out) * d;
    // Tied tables take the input and output rows in one update.
    b.unique_rows = sgd ? 0 : c.tied ? n_in + n_out : std::max(n_in, n_out);
  } else {
    b.grads = n_in * d;
    b.logits = l.rows * vocab;
    const bool direct_gemm = sgd && !c.tied;
    b.dense_grad = direct_gemm ? 0 : vocab * d;
    b.all_rows = direct_gemm ? 0 : vocab;
    b.unique_rows = sgd ? 0 : n_in;
  }
  return b;
}

std::vector<std::pair<std::string, std::size_t>> StepBuffers::parts(std::size_t dim) const {
  const std::size_t f = sizeof(float);
  std::vector<std::pair<std::string, std::size_t>> p = {
      {"embeddings", tables * table * f},
      {"optimizer state", tables * state_per_table * table * f},
      {"gathered rows and gradients",
       (input_rows + hidden + output_rows + 2 * scores + grads + hidden_grad) * f},
      {"logits", logits * f},
      {"dense output gradient", (dense_grad + all_rows) * f},
      {"row sums for the optimizer", unique_rows * (dim + 1) * f},
  };
  std::erase_if(p, [](const auto& part) { return part.second == 0; });
  return p;
}

std::string format_bytes(std::size_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024 * 1024));
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024));
  return buf;
}

void check_memory_fits(const std::vector<std::pair<std::string, std::size_t>>& parts,
                       std::size_t free_bytes, const std::string& device) {
  std::size_t total = 0;
  std::string detail;
  for (const auto& [name, bytes] : parts) {
    total += bytes;
    detail += (detail.empty() ? "" : ", ") + name + " " + format_bytes(bytes);
  }
  if (total <= free_bytes) return;
  throw Error("GPU memory: training needs " + format_bytes(total) + " (" + detail + ") but " +
              device + " has " + format_bytes(free_bytes) +
              " free; reduce --dim, --max-vocab or --batch (or use --optimizer sgd)");
}

}  // namespace w2v

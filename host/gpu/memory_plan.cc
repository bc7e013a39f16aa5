#include "gpu/memory_plan.h"

#include <algorithm>
#include <cstdio>

#include "gpu/fused_path.h"
#include "w2v/error.h"

namespace w2v {

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

MemoryParts StepBuffers::parts(std::size_t dim) const {
  const std::size_t f = sizeof(float);
  MemoryParts p = {
      {"embeddings", tables * table * f},
      {"optimizer state", tables * state_per_table * table * f},
      {"gathered rows and gradients",
       (input_rows + hidden + output_rows + 2 * scores + grads + hidden_grad) * f},
      {"logits", logits * f},
      {"dense output gradient", (dense_grad + all_rows) * f},
      {"row sums for the optimizer", (unique_rows * (dim + 1) + (unique_rows > 0)) * f},
  };
  std::erase_if(p, [](const auto& part) { return part.second == 0; });
  return p;
}

MemoryParts modular_path_memory(const TrainConfig& config, std::size_t vocab, std::size_t slots,
                                std::size_t workspace_bytes) {
  const BatchLayout layout = BatchLayout::for_config(config);
  MemoryParts parts = StepBuffers::plan(layout, config, vocab).parts(config.dim);
  parts.emplace_back("batch slots", slots * (layout.block_bytes() + layout.rows * sizeof(float)));
  parts.emplace_back("sort and softmax workspace", workspace_bytes);
  return parts;
}

MemoryParts fused_path_memory(const TrainConfig& config, std::size_t vocab, std::size_t slots) {
  const std::size_t table = vocab * config.dim * sizeof(float);
  const FusedLayout layout{config.fused_tokens};
  return {{"input vectors", table},
          {"output vectors", config.tied ? 0 : table},
          {"noise alias table", vocab * 2 * sizeof(std::uint32_t)},
          {"repeat scales", config.repeat_cap_on(/*fused=*/true) ? vocab * 2 * sizeof(float) : 0},
          {"batch slots", slots * (layout.block_bytes() + layout.loss_floats() * sizeof(float))}};
}

std::size_t total_bytes(const MemoryParts& parts) {
  std::size_t total = 0;
  for (const auto& part : parts) total += part.second;
  return total;
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

void check_memory_fits(const MemoryParts& parts, std::size_t free_bytes, const std::string& device,
                       const std::string& remedy) {
  const std::size_t total = total_bytes(parts);
  std::string detail;
  for (const auto& [name, bytes] : parts)
    detail += (detail.empty() ? "" : ", ") + name + " " + format_bytes(bytes);
  if (total <= free_bytes) return;
  throw Error("memory: training needs " + format_bytes(total) + " (" + detail + ") but " + device +
              " has " + format_bytes(free_bytes) + " free; " + remedy);
}

}  // namespace w2v

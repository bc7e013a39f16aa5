#pragma once
// The GPU memory a run needs, by part, predicted before anything is allocated and compared
// with what the device has free. The modular step allocates from the same StepBuffers plan,
// so the prediction and the allocations cannot drift apart.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "gpu/modular_batch.h"
#include "w2v/config.h"

namespace w2v {

// Named byte counts.
using MemoryParts = std::vector<std::pair<std::string, std::size_t>>;

// The buffers the modular step needs, in elements.
struct StepBuffers {
  std::size_t table = 0;            // V * d per table
  std::size_t tables = 0;           // 1 when tied, else 2
  std::size_t state_per_table = 0;  // optimizer state: 0 (SGD), 1 (momentum), 2 (Adam) tables
  std::size_t input_rows = 0;       // gathered input rows [rows * inputs, d]
  std::size_t hidden = 0;       // CBOW mean [rows, d] (0 for skip-gram: the gathered rows are h)
  std::size_t output_rows = 0;  // NS: gathered output rows [rows * outputs, d]
  std::size_t scores = 0;       // NS: scores and their gradient [rows * outputs]
  std::size_t grads = 0;        // input-row then output-row gradients
  std::size_t hidden_grad = 0;  // CBOW: gradient of h [rows, d]
  std::size_t logits = 0;       // softmax/BCE: [rows, V]
  std::size_t dense_grad = 0;   // softmax/BCE when the output step is not a plain GEMM: [V, d]
  std::size_t all_rows = 0;     // ids 0..V-1 for dense optimizer steps
  std::size_t unique_rows = 0;  // segment sums for the optimizers: ids, [n, d] sums, a count

  static StepBuffers plan(const BatchLayout& layout, const TrainConfig& config, std::size_t vocab);
  MemoryParts parts(std::size_t dim) const;
};

// Everything each GPU path allocates on the device with `slots` batch slots in flight (the
// modular path with `workspace_bytes` of sort and softmax scratch).
MemoryParts modular_path_memory(const TrainConfig& config, std::size_t vocab, std::size_t slots,
                                std::size_t workspace_bytes);
MemoryParts fused_path_memory(const TrainConfig& config, std::size_t vocab, std::size_t slots);

// Throws w2v::Error with both figures, the parts and `remedy` (what to change) when the parts
// do not fit in `free_bytes` of `device`.
void check_memory_fits(const MemoryParts& parts, std::size_t free_bytes, const std::string& device,
                       const std::string& remedy);
std::size_t total_bytes(const MemoryParts& parts);
std::string format_bytes(std::size_t bytes);

}  // namespace w2v

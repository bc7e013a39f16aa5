// The three GEMMs of the vocabulary losses (softmax, full BCE), on cuBLAS SGEMM: launch.blas,
// bound to launch.stream at each call. Row-major [r, c] is column-major [c, r]: each product
// below is written for cuBLAS's column-major view of our row-major matrices.
#include <cublas_v2.h>

#include <string>

#include "common.cuh"
#include "w2v/kernels/ops.h"

namespace w2v::gpu {
namespace {

void check_cublas(cublasStatus_t status, const char* op) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string("cuBLAS error in ") + op + ": " + cublasGetStatusString(status));
}

// The shared checks, and the handle bound to the stream. The inputs are read only when B > 0.
void prepare(const char* op, const float* a, const float* b, float* out, std::int64_t B,
             std::int64_t V, int d, const Launch& launch) {
  detail::require_size(B, 0, op, "B");
  detail::require_size(V, 1, op, "V");
  detail::require_size(d, 1, op, "d");
  detail::require(B < (std::int64_t(1) << 31) && V < (std::int64_t(1) << 31), op,
                  "B and V must be below 2^31 (cuBLAS takes int sizes)");
  if (B > 0) {
    detail::require_pointer(a, op, "first input");
    detail::require_pointer(b, op, "second input");
  }
  detail::require_pointer(out, op, "output");
  detail::require(launch.blas != nullptr, op, "no cuBLAS handle in the Launch");
  check_cublas(cublasSetStream(launch.blas, launch.stream), op);
}

}  // namespace

void gemm_logits(const float* h, const float* table, std::int64_t B, std::int64_t V, int d,
                 float* logits, const Launch& launch) {
  constexpr const char* kOp = "gemm_logits";
  if (B == 0) return;
  prepare(kOp, h, table, logits, B, V, d, launch);
  NvtxRange range(kOp);
  const float one = 1.0f, zero = 0.0f;
  check_cublas(cublasSgemm(launch.blas, CUBLAS_OP_T, CUBLAS_OP_N, int(V), int(B), d, &one, table, d,
                           h, d, &zero, logits, int(V)),
               kOp);
}

void gemm_hidden_grad(const float* grad_logits, const float* table, std::int64_t B, std::int64_t V,
                      int d, float* grad_h, const Launch& launch) {
  constexpr const char* kOp = "gemm_hidden_grad";
  if (B == 0) return;
  prepare(kOp, grad_logits, table, grad_h, B, V, d, launch);
  NvtxRange range(kOp);
  const float one = 1.0f, zero = 0.0f;
  check_cublas(cublasSgemm(launch.blas, CUBLAS_OP_N, CUBLAS_OP_N, d, int(B), int(V), &one, table, d,
                           grad_logits, int(V), &zero, grad_h, d),
               kOp);
}

void gemm_table_grad(const float* grad_logits, const float* h, std::int64_t B, std::int64_t V,
                     int d, float alpha, float beta, float* out, const Launch& launch) {
  constexpr const char* kOp = "gemm_table_grad";
  prepare(kOp, grad_logits, h, out, B, V, d, launch);  // B = 0 still scales out by beta
  NvtxRange range(kOp);
  check_cublas(cublasSgemm(launch.blas, CUBLAS_OP_N, CUBLAS_OP_T, d, int(V), int(B), &alpha, h, d,
                           grad_logits, int(V), &beta, out, d),
               kOp);
}

}  // namespace w2v::gpu

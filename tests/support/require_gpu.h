#pragma once
// GPU tests skip with a clear message on a machine (or a build) without a CUDA device.
#include <gtest/gtest.h>

#include "w2v/kernels/device.h"

#define REQUIRE_GPU()                                                        \
  if (const ::w2v::gpu::DeviceInfo w2v_device_ = ::w2v::gpu::probe_device(); \
      !w2v_device_.available)                                                \
  GTEST_SKIP() << "no CUDA device (" << w2v_device_.description << ")"

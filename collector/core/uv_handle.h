// Heap-allocated libuv handles: created with an owner pointer in `data`, freed in their close
// callback (a handle's memory must outlive uv_close until the callback runs).
#pragma once

#include <uv.h>

namespace sluice {

template <typename H>
H* new_uv_handle(void* owner) {
  H* h = new H;
  h->data = owner;
  return h;
}

// A handle something else already closed (the worker's shutdown sweep closes every handle left
// open, without freeing it) is left alone: closing it twice would be an error, and its small
// allocation is not worth tracking.
template <typename H>
void close_uv_handle(H*& h) {
  if (!h) return;
  h->data = nullptr;
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(h)))
    uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* x) { delete reinterpret_cast<H*>(x); });
  h = nullptr;
}

}  // namespace sluice

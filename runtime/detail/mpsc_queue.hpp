#pragma once
// Intrusive unbounded multi-producer single-consumer queue (Dmitry Vyukov's
// design): push is one atomic exchange, pop is wait-free except for the
// instant between a producer's exchange and its link, when pop reports empty
// although `maybe_nonempty()` is true.
// Thread-safety: push from any thread; pop/maybe_nonempty from the one consumer.

#include <atomic>

namespace rt::detail {

/// A queue link; message types derive from it.
struct MpscNode {
  std::atomic<MpscNode*> next{nullptr};
};

class MpscQueue {
 public:
  MpscQueue() : tail_(&stub_), head_(&stub_) {}
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  void push(MpscNode* node) noexcept {
    node->next.store(nullptr, std::memory_order_relaxed);
    MpscNode* prev = tail_.exchange(node, std::memory_order_acq_rel);
    prev->next.store(node, std::memory_order_release);
  }

  /// The oldest node, or nullptr when empty (or a push is mid-flight).
  MpscNode* pop() noexcept {
    MpscNode* head = head_;
    MpscNode* next = head->next.load(std::memory_order_acquire);
    if (head == &stub_) {
      if (next == nullptr) return nullptr;
      head_ = next;
      head = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      head_ = next;
      return head;
    }
    if (head != tail_.load(std::memory_order_acquire)) return nullptr;  // push mid-flight
    push(&stub_);
    next = head->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      head_ = next;
      return head;
    }
    return nullptr;
  }

  /// False only when the queue is certainly empty.
  bool maybe_nonempty() const noexcept {
    return head_->next.load(std::memory_order_acquire) != nullptr ||
           tail_.load(std::memory_order_acquire) != head_ || (head_ != &stub_);
  }

 private:
  // Not padded to separate cache lines: a mailbox per process makes padding
  // cost 104 bytes per process, and senders already share a line with the
  // consumer through the process's depth counter.
  std::atomic<MpscNode*> tail_;  // producer side
  MpscNode stub_;
  MpscNode* head_;  // consumer side
};

}  // namespace rt::detail

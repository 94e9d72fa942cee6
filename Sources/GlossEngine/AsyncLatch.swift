import Foundation

/// A one-shot event for async code: `wait()` returns once `fire()` has been called (or when the
/// waiting task is cancelled, so a stop that never comes cannot hang a task group).
public final class AsyncLatch: @unchecked Sendable {
    // @unchecked: `fired` and `waiters` are only touched under `lock`.
    private let lock = NSLock()
    private var fired = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    public func fire() {
        let ws = lock.withLock { () -> [CheckedContinuation<Void, Never>] in fired = true; defer { waiters = [] }; return waiters }
        for w in ws { w.resume() }
    }

    public func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { c in
                let now = lock.withLock { () -> Bool in if fired { return true }; waiters.append(c); return false }
                if now { c.resume() }
            }
        } onCancel: { self.fire() }
    }
}

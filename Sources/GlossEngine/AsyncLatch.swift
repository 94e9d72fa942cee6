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

/// The port a server bound, handed from its `ready` callback to the task waiting for it.
public final class PortBox: @unchecked Sendable {
    // @unchecked: `port` and `waiters` are only touched under `lock`.
    private let lock = NSLock()
    private var port: Int?
    private var waiters: [CheckedContinuation<Int, Never>] = []

    public init() {}

    public func set(_ p: Int) {
        let w: [CheckedContinuation<Int, Never>] = lock.withLock { port = p; let w = waiters; waiters = []; return w }
        for c in w { c.resume(returning: p) }
    }

    public func wait() async -> Int {
        await withCheckedContinuation { c in
            let p: Int? = lock.withLock { if let port { return port }; waiters.append(c); return nil }
            if let p { c.resume(returning: p) }
        }
    }
}

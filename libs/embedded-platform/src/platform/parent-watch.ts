/**
 * Preloaded (`node -r`) into every process the embedded launcher starts with
 * an IPC channel. The children run in their own process group (so a
 * terminal's Ctrl-C reaches only the launcher, which then stops them in
 * order); if the launcher itself dies — even by SIGKILL — the channel closes
 * and the child dies at once, like a crash, without cleanup. The channel does
 * not keep the process alive by itself.
 */
if (typeof process.send === 'function') {
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
}

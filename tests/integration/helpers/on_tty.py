#!/usr/bin/env python3
"""on_tty.py [--done-file FILE] SECONDS PROMPT_REGEX ANSWER -- COMMAND...

Runs COMMAND on a new pseudo-terminal (its controlling terminal), waits
for PROMPT_REGEX in what it prints, then types ANSWER and a newline.
Everything the command printed goes to stdout. After SECONDS the
command gets SIGTERM, and SIGKILL 3 s later if it is still there; the
exit status is then 124 (as timeout(1)), or 137 when SIGTERM was not
enough, else the command's own.
With --done-file, the command is ended (SIGTERM) as soon as FILE is
not empty (a --ready-fd file, say), and that counts as success.
Answering on the prompt, not after a fixed delay, keeps the test right
on a slow machine."""
import os, pty, re, select, signal, sys, time

def main():
    args, done_file = sys.argv[1:], None
    if args[0] == "--done-file":
        done_file, args = args[1], args[2:]
    secs, prompt, answer = float(args[0]), re.compile(args[1].encode()), args[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen, answered, killed, done = b"", False, None, False
    deadline = time.monotonic() + secs
    while True:
        now = time.monotonic()
        if (done_file and not done and os.path.exists(done_file)
                and os.path.getsize(done_file) > 0):
            os.kill(pid, signal.SIGTERM)
            done = True
        if now >= deadline and killed is None:
            os.kill(pid, signal.SIGTERM)
            killed, deadline = signal.SIGTERM, now + 3
        elif now >= deadline and killed == signal.SIGTERM:
            os.kill(pid, signal.SIGKILL)
            killed, deadline = signal.SIGKILL, now + 3600
        ready, _, _ = select.select([fd], [], [], max(0.0, min(0.2, deadline - now)))
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the terminal's last user is gone
            data = b""
        if not data:
            break
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        seen += data
        if not answered and prompt.search(seen):
            os.write(fd, answer.encode() + b"\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    if done:
        sys.exit(0)
    if killed == signal.SIGKILL:
        sys.exit(137)
    if killed is not None:
        sys.exit(124)
    sys.exit(os.waitstatus_to_exitcode(status) & 0xFF if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))

main()

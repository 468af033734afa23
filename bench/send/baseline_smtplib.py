#!/usr/bin/python3
"""baseline_smtplib.py HOST PORT MESSAGES SIZE PROCESSES: what the original design did for every
message (Django's send_mail through Gmail with an app password): a new SMTP connection, EHLO, a
login, the message, QUIT. The messages are shared out over PROCESSES processes (the same number
of parallel connections as the run it is compared with). Prints the wall time in seconds.
smtp-sink answers AUTH with 250, which smtplib reads as a failed login: the round trip is made
and timed, the error ignored. A benchmark's baseline, never a test."""
import multiprocessing
import smtplib
import sys
import time


def worker(args):
    host, port, count, size, index = args
    body = "From: news@example.org\r\nTo: r@example.org\r\nSubject: baseline\r\n\r\n"
    body += ("x" * 76 + "\r\n") * max(0, (size - len(body)) // 78)
    for i in range(count):
        with smtplib.SMTP(host, port, local_hostname="baseline.test", timeout=30) as s:
            try:
                s.login("campaigns", "app-password")
            except smtplib.SMTPException:
                pass
            s.sendmail("bounces@example.org", ["r%d-%d@example.org" % (index, i)], body)


def main():
    host, port, messages, size, processes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    shares = [messages // processes + (1 if i < messages % processes else 0) for i in range(processes)]
    start = time.monotonic()
    with multiprocessing.Pool(processes) as pool:
        pool.map(worker, [(host, port, shares[i], size, i) for i in range(processes)])
    print("%.3f" % (time.monotonic() - start))


if __name__ == "__main__":
    main()

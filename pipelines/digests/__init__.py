"""Scheduled insight digests: what each department should read this week, sent to them.

A digest is built in four steps, one module each, so every step can be tested on
its own and the sending never depends on the database:

    content.py          DigestContent for (department, period), read through the owner
                        connection from the department table macros (open_issues_of,
                        trend_daily_of, ...): a digest and a SQL query never disagree
    charts.py           PNG charts (matplotlib, Agg backend) from that content
    render_markdown.py  the Markdown digest
    render_html.py      one self-contained HTML file, charts embedded as data: URIs
    deliver.py          email over SMTP, a webhook POST; built from the written files
    ledger.py           one send per (department, period, channel), retries with backoff,
                        failures recorded in a JSON-lines ledger beside the digests
    schedule.py         crontab lines and systemd timers from the owners' schedules

``voc digest`` and ``voc schedule`` (pipelines/cli/digest.py) are the thin layer on top.
"""

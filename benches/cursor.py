"""Prints the keyset cursor (the row id) of the contact at OFFSET in name order, its id, the
local part of its email address (what an agent types to find one customer), then the email of
a Help Center user with tickets and the number of its newest ticket.

Usage: cursor.py DATABASE_URL OFFSET  (sqlite://path or postgres://...)
"""
import subprocess
import sys

url, offset = sys.argv[1], int(sys.argv[2])


def query(sql):
    if url.startswith("sqlite:"):
        import sqlite3
        return sqlite3.connect(url.split("://", 1)[1]).execute(sql.replace("false", "0")).fetchone()
    out = subprocess.run(["psql", url, "-AtF", "\t", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.rstrip("\n").split("\t")


sql = ("SELECT id, name_sort, email FROM contacts WHERE trashed = false "
       f"ORDER BY name_sort, id LIMIT 1 OFFSET {offset}")
if url.startswith("sqlite:"):
    import sqlite3
    row = sqlite3.connect(url.split("://", 1)[1]).execute(sql.replace("false", "0")).fetchone()
else:
    out = subprocess.run(["psql", url, "-AtF", "\t", "-c", sql], check=True, capture_output=True, text=True)
    ident, name, email = out.stdout.rstrip("\n").split("\t", 2)
    row = (int(ident), name, email)
user = query("SELECT c.email, MAX(t.number) FROM contacts c JOIN tickets t ON t.contact_id = c.id "
             "WHERE c.help_center_status = 'active' AND c.password_hash IS NOT NULL "
             "GROUP BY c.id, c.email ORDER BY c.id LIMIT 1")
print(row[0], row[0], row[2].split("@")[0], user[0], user[1])

"""Proof that no score was forged or lost: each device's ratings as a keyed hash chain, its
heads anchored outside the database, and the verification that reads it all back.

The database refuses UPDATE and DELETE on `rating`, but someone holding the database file can
drop that rule. So every stored rating gets a link in `rating_chain`: an HMAC, keyed with the
chain key (a file beside, never inside, the database), of the previous link and every column of
the rating. Without the key nobody can make a link match an edited, inserted or removed rating;
`verify` recomputes every link and names the first that does not match.

- key.py: the key file, and the check that a key is the chain's own.
- encoding.py: what a link hashes (the canonical bytes of a rating) and the MACs of links,
  heads and anchors.
- write.py: appending the links of new ratings, sealing the ratings stored before the chain,
  and the daily anchor in the audit log.
- verify.py: recomputing every chain in one snapshot and naming what does not match.
- anchors.py: the heads kept outside the database; proof.py: the chain, the rollups and the
  outside anchors proved together.

Limits, stated honestly:
- `chain_head` holds the last link of each device, MACed. Deleting a device's last ratings with
  their links and putting back an *older* copy of its head (MAC and all) leaves a chain that is
  consistent but shorter; the daily anchors (`anchor`, in the audit log) catch that for whatever
  was anchored, i.e. everything older than the last anchor. The anchors are in the database too:
  whoever rolls back the whole file, anchors included, to an earlier copy is caught only by a
  record kept elsewhere: each anchor, and the heads at every clean stop, also go to the anchor
  file and webhook (anchors.py) and to the server's log.
- Ratings stored before the chain existed are sealed into it once, at the first start after the
  upgrade. Someone who deletes every link, head and audit event makes the next start seal again;
  the first seal's log line and the logged anchors are then the evidence.
- Every server and ingest process must read the same key file (a province's processes on several
  hosts: copy it once, mode 0600). A process never makes a new key once the chain has begun, and
  refuses a key that is not the chain's own, so a host without the file cannot fork the chain.
"""

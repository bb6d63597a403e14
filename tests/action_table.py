"""The actions table of docs/rules.md, written out by hand, independently of tracker.domain.workflow.

action -> (statuses it is allowed from (None: any), status it leads to (None: unchanged)),
in the table's order, which is also the order of ``allowed_actions``.
"""

TABLE = {
    "accept": ({"registered"}, "accepted"),
    "refuse_intake": ({"registered"}, "not_accepted"),
    "process": ({"accepted", "processing"}, "processing"),
    "request_supplement": ({"accepted", "processing"}, "supplement_requested"),
    "receive_supplement": ({"supplement_requested"}, "processing"),
    "request_payment": ({"processing"}, "payment_requested"),
    "receive_payment": ({"payment_requested"}, "processing"),
    "complete": ({"processing"}, "done"),
    "stop": ({"accepted", "processing", "supplement_requested", "payment_requested"}, "stopped"),
    "withdraw": ({"registered", "accepted", "processing", "supplement_requested", "payment_requested"},
                 "withdrawn"),
    "return_result": ({"done"}, "returned"),
    "apologize": ({"accepted", "processing", "supplement_requested", "payment_requested"}, None),
    "comment": (None, None),
}

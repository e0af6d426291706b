from kafkacheck.checker.lang import Bool, Int, Model, action, leads_to, require


class Requests(Model):
    """A client submits requests one at a time; a server serves them; the client's
    heartbeat ticks meanwhile."""

    name = "requests"

    def variables(m):
        return {"pending": Bool, "served": Int(0, 2), "heartbeat": Bool}

    @action()
    def submit(m, s):
        """The client sends a request (two at most)."""
        require(~s.pending & (s.served < 2))
        s.pending = True

    @action(fair="weak")
    def serve(m, s):
        """The server answers the pending request: its request loop keeps running, so
        an enabled serve cannot be postponed forever (weak fairness)."""
        require(s.pending)
        s.pending = False
        s.served = s.served + 1

    @action(fair="weak")
    def tick(m, s):
        """The client's heartbeat timer fires."""
        s.heartbeat = ~s.heartbeat

    @leads_to
    def every_request_is_answered(m, s):
        """Whenever a request is pending, it is answered then or later."""
        return s.pending, ~s.pending

"""Who may see an event, and how the learner appears to them."""

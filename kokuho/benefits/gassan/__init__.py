"""高額介護合算療養費 (the yearly combined medical and long-term-care benefit, payments.md §2)."""

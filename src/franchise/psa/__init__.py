"""Working beside a PSA: ticket CSV imports (ConnectWise, Autotask, HaloPSA, generic)
and a signed outbound webhook that tells the PSA what changed."""

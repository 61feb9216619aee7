"""The staff console: a static single page (static/console/) that talks only to /graphql/.

Served under /subscriptions/dashboard/ by views.py; it can also run as an App extension inside
Saleor 3.x's dashboard (an iframe handed the API URL and a token), see README "Staff console"."""

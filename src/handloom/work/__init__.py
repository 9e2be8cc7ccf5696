"""Services: the business rules of projects, import, routing, submissions and accounts."""

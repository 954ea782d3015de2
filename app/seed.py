def seed_demo(*a, **k): raise NotImplementedError

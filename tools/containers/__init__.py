"""Real containers: build the app image on real or stand-in bases and run it as ECS would."""

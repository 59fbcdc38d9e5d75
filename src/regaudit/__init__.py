"""regaudit: what Deeplearning4j's Keras import does with every regularizer in a Keras model."""

__version__ = "0.1.0"

"""The ChinaCropSM1km random forest: features, irrigation module, model, area of applicability."""

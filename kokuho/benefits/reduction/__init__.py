"""一部負担金の減額・免除・徴収猶予 (国民健康保険法第44条): models, the rule, services, PDFs."""
